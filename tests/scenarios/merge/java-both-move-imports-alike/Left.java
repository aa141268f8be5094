package example.http;

import com.google.gson.Gson;
import java.io.IOException;
import java.util.concurrent.Executor;
import javax.inject.Inject;
import org.apache.http.Header;
import org.apache.http.HttpEntity;
import org.apache.http.HttpResponse;
import org.apache.http.client.HttpClient;

public class Gateway {
  @Inject private HttpClient client;
  @Inject private Gson gson;

  HttpEntity fetch(String url) throws IOException {
    HttpResponse response = client.execute(url);
    Header type = response.getFirstHeader("Content-Type");
    return response.getEntity();
  }
}
