package example.http;

<<<<<<< left
import org.apache.http.client.HttpClient;
||||||| base
=======
>>>>>>> right
import com.google.gson.Gson;

<<<<<<< left
||||||| base
=======
import org.apache.http.client.HttpClient;
>>>>>>> right
import java.io.IOException;
import org.apache.http.HttpEntity;

public class Gateway {
  @Inject private HttpClient client;

  HttpEntity fetch(String url) throws IOException {
    return client.execute(url).getEntity();
  }
}
