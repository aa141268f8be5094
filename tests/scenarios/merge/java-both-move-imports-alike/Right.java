package example.http;

import com.google.gson.Gson;
import java.io.IOException;
import java.util.concurrent.Executor;
import javax.inject.Inject;
import org.apache.http.HttpEntity;
import org.apache.http.HttpResponse;
import org.apache.http.client.HttpClient;

public class Gateway {
  @Inject private HttpClient client;
  @Inject private Gson gson;
  @Inject private Executor executor;

  HttpEntity fetch(String url) throws IOException {
    HttpResponse response = client.execute(url);
    return response.getEntity();
  }
}
